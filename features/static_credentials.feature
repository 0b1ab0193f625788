@static
Feature: Static credentials read only the secrets their access names
  A platform team gives ESO an IAM user's access key. The IAM policy that sma generates
  for that user, enforced by the IAM gateway in front of LocalStack, lets ESO list and
  read the secrets the access names, and nothing else.

  Background:
    Given a fresh AWS account behind the IAM-enforcing gateway
    And these secrets exist in the account:
      | name            |
      | staging/db      |
      | staging/api-key |
      | stagingfoo      |
      | prod/db         |

  Scenario: an access scoped to the prefix "staging/"
    Given a static-credentials access "staging-reader" scoped to the prefix "staging/"
    When sma generates its templates
    And the account root creates the access's IAM user with the generated policy and an access key
    Then with the access's credentials, ESO reads "staging/db"
    And with the access's credentials, ESO reads "staging/api-key"
    But with the access's credentials, reading "prod/db" is denied with AccessDeniedException
    And with the access's credentials, reading "stagingfoo" is denied with AccessDeniedException
    And with the access's credentials, ListSecrets shows every secret of the account

  Scenario: an access scoped to one exact secret name
    Given a static-credentials access "db-only" scoped to the secret name "staging/db"
    When sma generates its templates
    And the account root creates the access's IAM user with the generated policy and an access key
    Then with the access's credentials, ESO reads "staging/db"
    But with the access's credentials, reading "staging/api-key" is denied with AccessDeniedException
    And with the access's credentials, reading "prod/db" is denied with AccessDeniedException
