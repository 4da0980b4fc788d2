import { MemoryBackend, Store } from '../src/index';
import { conformance } from './conformance/suite';

conformance({
  name: 'memory',
  hierarchical: true,
  terminalClose: false,
  async make() {
    return { store: new Store(new MemoryBackend()), cleanup: async () => {} };
  },
});
