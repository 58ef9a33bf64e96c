// Stub of execa for yeoman-generator inside the create-agent-service bundle (scripts/build.mjs).
// create-agent-service's own post-generation steps import the real execa.
import { unavailable } from './_unavailable.mjs';
export const execa = unavailable('execa (spawnCommand)');
export const execaCommand = unavailable('execa (spawnCommand)');
export const execaCommandSync = unavailable('execa (spawnCommandSync)');
export const execaSync = unavailable('execa (spawnSync)');
