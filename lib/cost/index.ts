export * from './report';
export * from './format';
export * from './live-prices';
export { FREE_RESOURCE_TYPES } from './resource-types';
