export { FileLogStorage, type FileLogStorageOptions, type StorageUpdate } from "./file_log_storage";
