"""People: users of the Cognito pool and what Cognito does not hold (assigned accounts, revocation, last seen).

``models`` (shapes on the wire), ``store`` (UsersTable), ``pool`` (the Cognito user pool), ``service``
(users API and sign-in logic), ``scope`` (which accounts a caller may see: object-level authorization).
"""
