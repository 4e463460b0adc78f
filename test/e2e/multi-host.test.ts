/**
 * DESIGN.md section 4c: two `formhub api` and two `formhub worker` processes, each on a host
 * of its own (a Linux network namespace), sharing one PostgreSQL and one Redis on the
 * "database host" (the root namespace). Needs root: without network namespaces it fails,
 * it never skips. The same checks on one host: test/e2e/multi-process.test.ts.
 */
import { netnsTopology } from '../support/multi-host.ts';
import { multiHostSuite } from '../support/multi-host-suite.ts';

multiHostSuite('formhub on several hosts (network namespaces)', netnsTopology);
