// Stands in for node:child_process in the unit tier (jest.config.js maps the module here):
// unit tests start no process, so the tier stays fast and runs anywhere. A test that has
// to run a program, a script or the bundler belongs in test/build/ (npm run test:build).
// CommonJS, so that both `import` and a library's `require` (esbuild's) get it.
function refuse(name) {
  return function () {
    throw new Error(`the unit tier starts no process (child_process.${name} was called); move this test to test/build/ (npm run test:build) or to test/integration/`);
  };
}
const names = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"];
for (const name of names) module.exports[name] = refuse(name);
module.exports.ChildProcess = class ChildProcess {
  constructor() {
    refuse("ChildProcess")();
  }
};
