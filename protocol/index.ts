export * from './request-parser';
export * from './reply-writer';
