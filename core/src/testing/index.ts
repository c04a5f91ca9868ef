export { runTask, planTask, type TestTaskOptions, type TestTaskRun } from './run-task.js';
