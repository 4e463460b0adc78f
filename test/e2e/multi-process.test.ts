/**
 * DESIGN.md section 4c on one host: two `formhub api` and two `formhub worker` processes on
 * 127.0.0.1 sharing one PostgreSQL and one Redis, with the checks of the multi-host test
 * (test/e2e/multi-host.test.ts, on network namespaces).
 */
import { sameHostTopology } from '../support/multi-host.ts';
import { multiHostSuite } from '../support/multi-host-suite.ts';

multiHostSuite('formhub as several processes on one host', sameHostTopology);
