// Shared by the stubs in this folder (see scripts/build.mjs, stubYeomanExtras).
export const unavailable = (what) =>
  function unavailableInBundle() {
    throw new Error(`${what} is not bundled with create-agent-service (yeoman-generator feature not used by this generator)`);
  };
