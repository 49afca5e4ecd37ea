export declare const README_PATH: string;
export declare function readmeWithTemplate(readme?: string, template?: string): string;
