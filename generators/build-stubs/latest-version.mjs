// Stub of latest-version for yeoman-generator inside the create-agent-service bundle (scripts/build.mjs).
import { unavailable } from './_unavailable.mjs';
export default unavailable('latest-version (addDependencies without versions)');
