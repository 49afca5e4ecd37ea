export declare const TEMPLATE_PATH: string;
export declare const TEMPLATE_DEFAULTS: Readonly<Record<string, string>>;
export declare function templateVariables(text?: string): string[];
export declare function renderTemplate(vars: Record<string, string | undefined>, text?: string): string;
