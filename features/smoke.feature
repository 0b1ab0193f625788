@smoke
Feature: LocalStack answers as AWS Secrets Manager
  Every other feature stands on this: the AWS SDK for Rust, pointed at the LocalStack
  under test, creates, reads and lists secrets as it would on AWS.

  Scenario: a secret is created, read back and listed
    Given a fresh AWS account on LocalStack
    When the account root creates the secret "smoke/db" with a random value
    Then reading "smoke/db" returns that value
    And ListSecrets shows "smoke/db"

  Scenario: reading a secret that does not exist
    Given a fresh AWS account on LocalStack
    When the account root reads the secret "smoke/missing"
    Then the call fails with ResourceNotFoundException
