/** The longest display name a tab may take, on the host form and on the join page alike. */
export const DISPLAY_NAME_MAX_LENGTH = 40;
