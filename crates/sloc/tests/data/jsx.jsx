// 6 lines 4 code 1 comments 1 blanks
const App = () => (
  <div title="// not a comment">hello</div>
);

export default App;
