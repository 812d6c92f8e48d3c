export { setupIntegration as default } from "./global-setup.mjs";
