// kubernetes-models' JSON schemas accept unknown fields, which the API server refuses (kubectl's
// default field validation is Strict) and a typo like `readinesProbe` would silently drop. So each
// object is also type-checked, as an object literal, against the same package's TypeScript
// declaration of its kind: TypeScript's excess-property check names every unknown field, at any
// depth, and its type check every value of the wrong type.
import path from "node:path";
import ts from "typescript";
import type { K8sObject } from "./kustomize.js";

export function strictFieldErrors(objects: K8sObject[], packageDir: string): string[] {
  // In the package folder, so that `kubernetes-models` resolves from its node_modules.
  const file = path.join(packageDir, "__rendered_manifests__.ts");
  const source = objects
    .map((o, i) => {
      const label = `${o.kind} ${o.metadata.name}`.replace(/[^\w .-]/g, "");
      return `import type { I${o.kind} as T${i} } from "kubernetes-models/${o.apiVersion}/${o.kind}";\n/* ${label} */ export const o${i}: T${i} = ${JSON.stringify(o)};`;
    })
    .join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
    // No DOM: the declarations need only the language (and the check is twice as fast).
    lib: ["lib.es2022.d.ts"],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === file ? ts.createSourceFile(name, source, languageVersion) : getSourceFile.call(host, name, languageVersion, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (d.file?.fileName !== file || d.start === undefined) return text;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const label = /\/\* (.*?) \*\//.exec(source.split("\n")[line] ?? "")?.[1] ?? `line ${line}`;
    return `${label}: ${text}`;
  });
}
