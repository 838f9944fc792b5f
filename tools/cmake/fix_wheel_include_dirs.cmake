# Injected into the interface package builds with -DCMAKE_PROJECT_INCLUDE=<this file>
# by tools/build_interfaces.sh; it is not part of the interface packages themselves.
#
# Why: the ROS 2 wheels on PyPI were built in a manylinux container. The CMake
# targets they export for the Python typesupport (e.g.
# share/std_msgs/cmake/export_std_msgs__rosidl_generator_pyExport.cmake) name that
# container's include directories in INTERFACE_INCLUDE_DIRECTORIES:
#   /opt/python/cp311-cp311/include/python3.11
#   /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
# Neither exists here, and CMake refuses to generate a build that uses an imported
# target with a non-existent include directory.
#
# Instead of editing files that pip owns (a reinstall would undo it), we rewrite
# the property on the imported targets at the end of the top-level CMakeLists.txt,
# after every find_package() has run and before generation checks the paths.
# DRB_PYTHON_INCLUDE_DIR and DRB_NUMPY_INCLUDE_DIR come from the build script
# (sysconfig.get_paths()["include"] and numpy.get_include() of the venv's Python).
# Without them, they are asked of Python3_EXECUTABLE, else of `python3` on PATH,
# so other interface packages can use this file too, e.g. with colcon:
#   colcon build --cmake-args -DCMAKE_PROJECT_INCLUDE=<repo>/tools/cmake/fix_wheel_include_dirs.cmake

if(NOT DRB_PYTHON_INCLUDE_DIR OR NOT DRB_NUMPY_INCLUDE_DIR)
  if(Python3_EXECUTABLE)
    set(_drb_py "${Python3_EXECUTABLE}")
  else()
    find_program(_drb_py NAMES python3 python REQUIRED)
  endif()
  execute_process(
    COMMAND "${_drb_py}" -c "import sysconfig, numpy; print(sysconfig.get_paths()['include'] + ';' + numpy.get_include())"
    OUTPUT_VARIABLE _drb_dirs OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _drb_rc)
  if(NOT _drb_rc EQUAL 0)
    message(FATAL_ERROR "fix_wheel_include_dirs.cmake: ${_drb_py} could not report its Python/numpy include dirs")
  endif()
  list(GET _drb_dirs 0 DRB_PYTHON_INCLUDE_DIR)
  list(GET _drb_dirs 1 DRB_NUMPY_INCLUDE_DIR)
endif()

function(_drb_fix_wheel_include_dirs)
  get_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  set(_fixed 0)
  foreach(_t IN LISTS _targets)
    get_target_property(_dirs ${_t} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _dirs)
      continue()
    endif()
    set(_new "")
    set(_changed FALSE)
    foreach(_d IN LISTS _dirs)
      if(_d MATCHES "^/opt/python/[^/]+/include/python[0-9.]+$" AND NOT EXISTS "${_d}")
        list(APPEND _new "${DRB_PYTHON_INCLUDE_DIR}")
        set(_changed TRUE)
      elseif(_d MATCHES "^/opt/python/.*/numpy/(_core/)?include$" AND NOT EXISTS "${_d}")
        list(APPEND _new "${DRB_NUMPY_INCLUDE_DIR}")
        set(_changed TRUE)
      else()
        list(APPEND _new "${_d}")
      endif()
    endforeach()
    if(_changed)
      list(REMOVE_DUPLICATES _new)
      set_target_properties(${_t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_new}")
      math(EXPR _fixed "${_fixed} + 1")
    endif()
  endforeach()
  message(STATUS "fix_wheel_include_dirs: re-pointed include dirs of ${_fixed} imported targets")
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _drb_fix_wheel_include_dirs)
