// 6 lines 4 code 1 comments 1 blanks
#pragma once
namespace demo {

class Widget; /* declared */
}
