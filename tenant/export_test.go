package tenant

// LegacySecretAD lets the tests seal a legacy secret as this package does,
// to make the records that other versions left.
var LegacySecretAD = legacySecretAD
