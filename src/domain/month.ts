/**
 * Months now live in the calendar module; this name stays so that imports written before
 * the move (and on branches still in flight) keep resolving.
 */
export * from './calendar.js';
