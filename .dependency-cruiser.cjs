/** Import rules for the monorepo: no cycles, no reaching into another package's files, nothing depends on a service. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-deep-import-across-packages',
      comment: "Use the package name and its exports map, never another package's src/.",
      severity: 'error',
      from: { path: '^(packages|services)/([^/]+)/' },
      to: {
        path: '^(packages|services)/([^/]+)/',
        pathNot: '^$1/$2/',
        dependencyTypesNot: ['npm', 'npm-dev', 'aliased-workspace', 'local'],
      },
    },
    {
      name: 'packages-never-import-services',
      comment: 'Libraries never depend on a service; the operator CLI is an application, see the next rule.',
      severity: 'error',
      from: { path: '^packages/', pathNot: '^packages/cli/' },
      to: { path: '^services/' },
    },
    {
      name: 'cli-takes-only-named-modules-from-services',
      comment:
        "The offsite CLI validates a service's configuration with the service's own schema, manages the console's accounts through the console's module and imports remote-sensing files through the analyzer's; nothing else of a service.",
      severity: 'error',
      from: { path: '^packages/cli/' },
      to: {
        path: '^services/',
        pathNot:
          '^services/[^/]+/src/config\\.ts$|^services/console/src/users\\.ts$|^services/analyzer/src/remote-sensing-importer\\.ts$',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    exclude: { path: '(node_modules|/dist/|\\.offsite)' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['offsite-source', 'import', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
