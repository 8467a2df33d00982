"""The blog post's Python, counted by the built-in syntax."""


def hello():
    # A comment.
    return "hello"


print(hello())
