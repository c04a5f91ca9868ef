export { type DataStore, createMemoryDataStore, chainDataStores } from './data-store.js';
export { createFolderDataStore } from './folder-data-store.js';
