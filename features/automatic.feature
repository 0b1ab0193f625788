@automatic
Feature: An automatic access reads every secret of its account, and only of its account
  A platform team deploys the CloudFormation stack sma generates for an automatic access
  in the cluster's account. ESO assumes the stack's role by web identity with its
  service account's token and reads every secret of the account and region; a secret
  of another account stays out of reach, and no other service account can assume the
  role.

  Background:
    Given a fresh AWS account behind the IAM-enforcing gateway
    And the cluster's OIDC issuer is an IAM OIDC provider of the account
    And these secrets exist in the account:
      | name            |
      | staging/db      |
      | prod/db         |
      | payments/stripe |
    And the secret "shared/db" exists in another account

  Scenario: the role reads every secret of the account
    Given an automatic access "all-secrets"
    When sma generates its templates
    And the account root deploys the generated CloudFormation stack
    Then ESO's service account assumes the stack's role by web identity
    And with the access's credentials, ESO reads "staging/db"
    And with the access's credentials, ESO reads "prod/db"
    And with the access's credentials, ESO reads "payments/stripe"
    And with the access's credentials, ListSecrets shows every secret of the account
    But with the access's credentials, reading the other account's secret is denied with AccessDeniedException
    And the service account "default/app" cannot assume the stack's role
