% 10 lines 5 code 4 comments 1 blanks
function y = double(x)
  y = 2 * x;
end
% a line comment

%{ a block comment
   still inside it %}
z = 1; %{ a comment after code %}
s = "% not a comment";
