// setupFilesAfterEnv of the integration and e2e projects: their tests wait on a real
// control plane, so they get minutes, not jest's default five seconds. (testTimeout is a
// global option; per-project it has to be set here.)
import { jest } from "@jest/globals";

jest.setTimeout(Number(process.env.SPIDERPOOL_TEST_TIMEOUT_MS ?? 180_000));
