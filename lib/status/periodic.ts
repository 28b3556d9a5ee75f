/**
 * The periodic-task helper of `lib/periodic.ts`, re-exported here for the parts whose row in the
 * import table (`tests/architecture_test.ts`) lists `lib/status` but not `lib`: the mirror's
 * pullers, readers and publisher (`lib/mirror`) use it through this module.
 *
 * @module
 */

export { GLOBAL_TIMERS, Periodic, type PeriodicOptions, type Timers } from "../periodic.ts";
