// Vite bundles CSS imported by the pages; this tells TypeScript such side-effect imports are fine.
declare module "*.css";
