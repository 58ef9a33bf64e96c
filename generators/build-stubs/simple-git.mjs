// Stub of simple-git for yeoman-generator inside the create-agent-service bundle (scripts/build.mjs).
import { unavailable } from './_unavailable.mjs';
export const simpleGit = unavailable('simple-git (this.git / this.simpleGit)');
export const CheckRepoActions = {};
export const CleanOptions = {};
