export function writeReports() {}
