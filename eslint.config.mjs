// Lint rules for the whole repository: the Pulumi program, the app, the policy pack and tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "data/",
      ".synth/",
      ".services/",
      "app/public/dist/",
      "bench/results/",
      "dist/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "prefer-const": "error",
      eqeqeq: ["error", "always"],
    },
  },
  {
    // The program loads only the @pulumi/aws services it uses, through components/aws.ts (issue 17):
    // one import of the package's index loads all of its services on every preview and up.
    files: ["components/**/*.ts", "stacks/**/*.ts", "harness/**/*.ts"],
    ignores: ["components/aws.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@pulumi/aws",
              message:
                "Import the services the program uses from components/aws.ts (add a service there when it is missing).",
            },
            {
              name: "@pulumi/awsx",
              message: "Import the awsx module you need (for example @pulumi/awsx/ecr).",
            },
          ],
        },
      ],
    },
  },
  {
    // Cookies are parsed on first use (issue 17): `request.cookies` is null until then, although
    // @fastify/cookie's types say otherwise, so the app reads them through requestCookies().
    files: ["app/src/**/*.ts"],
    ignores: ["app/src/http/security.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[property.name='cookies']",
          message:
            "Read cookies with requestCookies(request) or cookie(request, name): request.cookies is null until parsed.",
        },
      ],
    },
  },
);
