/** tandem's version, recorded in every report (kept in step with package.json). */
export const TANDEM_VERSION = "0.1.0";
