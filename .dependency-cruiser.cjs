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
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^services/' },
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
