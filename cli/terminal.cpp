#include "cli/terminal.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

namespace x420::cli {
namespace {

struct termios saved_mode;
volatile sig_atomic_t mode_saved = 0;

// Ctrl-C (or a kill) while echo is off would leave the user's shell typing blind.
extern "C" void restore_and_reraise(int signal_number) {
  if (mode_saved) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_mode);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

}  // namespace

std::string read_line_unechoed() {
  std::string line;
  if (::tcgetattr(STDIN_FILENO, &saved_mode) != 0) {
    std::getline(std::cin, line);
    return line;
  }
  struct sigaction previous[std::size(kStopSignals)] = {};
  struct sigaction restore = {};
  restore.sa_handler = restore_and_reraise;
  ::sigemptyset(&restore.sa_mask);
  mode_saved = 1;
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &restore, &previous[i]);

  struct termios quiet = saved_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // Enter still moves to the next line
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_mode);

  mode_saved = 0;
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &previous[i], nullptr);
  return line;
}

}  // namespace x420::cli
