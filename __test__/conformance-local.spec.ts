import { LocalBackend, Store } from '../src/index';
import { conformance } from './conformance/suite';
import { tempDir } from './support/tmp';

conformance({
  name: 'local',
  hierarchical: true,
  readsFilesNatively: true,
  // PATH_MAX (4096) less what the temp root takes.
  maxPathLength: 4000,
  terminalClose: false,
  async make() {
    const { dir, remove } = await tempDir();
    return { store: new Store(new LocalBackend({ root: dir })), cleanup: remove };
  },
});
