@gcp
Feature: A GKE cluster reads its AWS secrets with static credentials, and nothing else
  A platform team running ESO on GKE deploys the IAM user stack sma generates for a
  static-credentials access in its AWS account, then creates the user's access key.
  With those keys, from outside AWS, ESO reads the secrets the access names and
  nothing else.

  Background:
    Given a fresh AWS account behind the IAM-enforcing gateway
    And these secrets exist in the account:
      | name              |
      | reporting/daily   |
      | reporting/monthly |
      | reportingfoo      |
      | finance/ledger    |

  Scenario: an access scoped to the prefix "reporting/"
    Given a GKE cluster's static-credentials access "aws-reporting" scoped to the prefix "reporting/"
    When sma generates its templates
    And the account root deploys the generated CloudFormation stack
    And the account root creates an access key for the stack's user
    Then with the access's credentials, ESO reads "reporting/daily"
    And with the access's credentials, ESO reads "reporting/monthly"
    But with the access's credentials, reading "finance/ledger" is denied with AccessDeniedException
    And with the access's credentials, reading "reportingfoo" is denied with AccessDeniedException
    And with the access's credentials, ListSecrets shows every secret of the account

  Scenario: secrets encrypted with customer-managed keys
    Given these customer-managed KMS keys exist in the account:
      | name      |
      | reporting |
      | finance   |
    And these secrets exist in the account:
      | name                 | key       |
      | reporting/encrypted  | reporting |
      | reporting/other-key  | finance   |
    And a GKE cluster's static-credentials access "aws-reporting" scoped to the prefix "reporting/" that may decrypt with the key "reporting"
    When sma generates its templates
    And the account root deploys the generated CloudFormation stack
    And the account root creates an access key for the stack's user
    Then with the access's credentials, ESO reads "reporting/encrypted"
    And with the access's credentials, ESO reads "reporting/daily"
    But with the access's credentials, reading "reporting/other-key" is denied with AccessDeniedException
