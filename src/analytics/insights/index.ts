export { InsightsService, type Prediction, type Trends } from './service.ts';
