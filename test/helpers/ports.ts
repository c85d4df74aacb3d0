// Free ports for servers started by tests.
export { freePort, freePorts } from '../../src/common/ports.js';
