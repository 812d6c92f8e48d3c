export { setupE2e as default } from "./global-setup.mjs";
