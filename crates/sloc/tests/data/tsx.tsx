// 4 lines 2 code 2 comments 0 blanks
/* a component */
export const X = () => <b>{"/*"}</b>;
export const Y = 1;
