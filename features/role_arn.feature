@role-arn
Feature: A role-arn access reads only the secrets its patterns name
  A platform team deploys the CloudFormation stack sma generates for a role-arn access
  in its own account. ESO, with its service account's token from the cluster, assumes
  the stack's role by web identity. Enforced by the IAM gateway in front of LocalStack,
  the role lists and reads the secrets the access names, and nothing else; no other
  service account of the cluster can assume it.

  Background:
    Given a fresh AWS account behind the IAM-enforcing gateway
    And the cluster's OIDC issuer is an IAM OIDC provider of the account
    And these secrets exist in the account:
      | name            |
      | staging/db      |
      | staging/api-key |
      | stagingfoo      |
      | prod/db         |

  Scenario: an access scoped to the prefix "staging/"
    Given a role-arn access "staging-reader" scoped to the prefix "staging/"
    When sma generates its templates
    And the account root deploys the generated CloudFormation stack
    Then ESO's service account assumes the stack's role by web identity
    And with the access's credentials, ESO reads "staging/db"
    And with the access's credentials, ESO reads "staging/api-key"
    But with the access's credentials, reading "prod/db" is denied with AccessDeniedException
    And with the access's credentials, reading "stagingfoo" is denied with AccessDeniedException
    And with the access's credentials, ListSecrets shows every secret of the account
    And with the access's credentials, ESO's find by name "^staging/" reads exactly:
      | name            |
      | staging/api-key |
      | staging/db      |
    # The vendor's five actions have no secretsmanager:BatchGetSecretValue, which ESO's
    # find by path or tags calls: such ExternalSecrets fail on every setup.
    But with the access's credentials, ESO's find by path "staging/" is denied with AccessDeniedException
    And the service account "default/app" cannot assume the stack's role
    And the service account "staging/external-secrets" cannot assume the stack's role

  Scenario: an access scoped to one exact secret name
    Given a role-arn access "db-only" scoped to the secret name "staging/db"
    When sma generates its templates
    And the account root deploys the generated CloudFormation stack
    Then ESO's service account assumes the stack's role by web identity
    And with the access's credentials, ESO reads "staging/db"
    But with the access's credentials, reading "staging/api-key" is denied with AccessDeniedException
    And with the access's credentials, reading "prod/db" is denied with AccessDeniedException
