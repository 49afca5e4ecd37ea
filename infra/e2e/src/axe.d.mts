import type { Page } from "playwright-core";

export declare function seriousViolations(page: Page): Promise<string[]>;
