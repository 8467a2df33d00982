// The blog post's JavaScript, counted by the syntax file's "Javascript" entry.
/* The syntax file knows no strings: it is the original format. */
function hello() {
  return "hello";
}
console.log(hello());
