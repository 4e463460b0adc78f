export {
  AppError,
  ERROR_STATUS,
  notFound,
  validationFailed,
  invalidRequest,
  type ErrorCode,
  type ErrorDetail,
} from './app-error.ts';
