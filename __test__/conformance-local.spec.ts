import { LocalBackend, Store } from '../src/index';
import { conformance } from './conformance/suite';
import { tempDir } from './support/tmp';

conformance({
  name: 'local',
  hierarchical: true,
  readsFilesNatively: true,
  terminalClose: false,
  async make() {
    const { dir, remove } = await tempDir();
    return { store: new Store(new LocalBackend({ root: dir })), cleanup: remove };
  },
});
