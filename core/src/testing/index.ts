/**
 * `@sisyphus/core/testing`: run a module's task through the real engine in
 * tests. See docs/writing-a-module.md, "Testing your module".
 */
export { runTask, planTask, type TestTaskOptions, type TestTaskRun, type ModuleSettingsOf } from './run-task.js';
export { createTestFolder, TestFolder, type TestFolderOptions } from './test-folder.js';
export { assertCompleted, phaseTrail } from './task-assertions.js';
