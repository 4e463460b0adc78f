export {
  checkTargetUrl,
  classifyAddress,
  createGuardedAgent,
  createGuardedLookup,
  BlockedAddressError,
  type AddressClass,
  type TargetCheck,
} from './address-guard.ts';
