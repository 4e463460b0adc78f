export {
  checkTargetUrl,
  classifyAddress,
  createGuardedAgent,
  createGuardedLookup,
  BlockedAddressError,
  blockedAddressIn,
  TARGET_NOT_ALLOWED,
  type AddressClass,
  type TargetCheck,
} from './address-guard.ts';
