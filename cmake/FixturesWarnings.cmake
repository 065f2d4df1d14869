include_guard(GLOBAL)
# fixtures_target_options(<target>): warnings (and -Werror when FIXTURES_WERROR) plus the chosen
# sanitizers, for ServerFixtures' own targets only; nothing is pushed onto consumers.
function(fixtures_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion $<$<BOOL:${FIXTURES_WERROR}>:-Werror>)
endfunction()

if(FIXTURES_SANITIZE AND PROJECT_IS_TOP_LEVEL)
  # Everything in this build (our code, tests, examples, helper servers) is instrumented alike.
  add_compile_options(-fsanitize=${FIXTURES_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${FIXTURES_SANITIZE})
  if(FIXTURES_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that TSan does not model std::atomic_thread_fence, which Asio uses.
    add_compile_options(-Wno-tsan)
  endif()
  if(FIXTURES_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
