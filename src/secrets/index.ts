export { SecretBox } from './secret-box.ts';
