@gcp-web-identity
Feature: A GKE cluster reads its AWS secrets without any AWS key (sma's web-identity setup)
  A platform team running ESO on GKE deploys the stack sma generates for a web-identity
  access in its AWS account. GKE signs service-account tokens with a public OIDC issuer
  (https://container.googleapis.com/v1/projects/<project>/locations/<location>/clusters/<cluster>);
  registered as an IAM OIDC provider, it lets ESO's service account assume the stack's
  role by web identity, as IRSA does on EKS. Enforced by the IAM gateway in front of
  LocalStack, ESO reads the secrets the access names and nothing else; tokens of another
  service account, for another audience, or of another GKE cluster are refused.

  # The providers are created through the IAM API and the stack is deployed with
  # OidcProviderExists=true, the generated template's path for an account that already
  # has the provider: LocalStack's CloudFormation does not create AWS::IAM::OIDCProvider
  # (it reports the resource deployed and creates nothing). Both providers also accept a
  # second audience, so that only the role's trust can refuse a token minted for it.
  Background:
    Given a fresh AWS account behind the IAM-enforcing gateway
    And the GKE cluster's issuer and another GKE cluster's are IAM OIDC providers of the account
    And these secrets exist in the account:
      | name              |
      | reporting/daily   |
      | reporting/monthly |
      | reportingfoo      |
      | finance/ledger    |

  Scenario: an access scoped to the prefix "reporting/"
    Given a GKE cluster's web-identity access "aws-reporting" scoped to the prefix "reporting/"
    When sma generates its templates
    And the account root deploys the generated CloudFormation stack with OidcProviderExists=true
    Then ESO authenticates with the generated manifests, as the GKE cluster's service account
    And with the access's credentials, ESO reads "reporting/daily"
    And with the access's credentials, ESO reads "reporting/monthly"
    But with the access's credentials, reading "finance/ledger" is denied with AccessDeniedException
    And with the access's credentials, reading "reportingfoo" is denied with AccessDeniedException
    And with the access's credentials, ListSecrets shows every secret of the account
    And a token of the GKE cluster for "external-secrets/external-secrets" assumes the stack's role
    But a token of another GKE cluster for "external-secrets/external-secrets" cannot assume the stack's role
    And a token of the GKE cluster for "external-secrets/default" cannot assume the stack's role
    And a token of the GKE cluster for "default/external-secrets" cannot assume the stack's role
    And a token of the GKE cluster for "external-secrets/external-secrets" with another audience cannot assume the stack's role
