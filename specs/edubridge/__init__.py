"""EduBridge (Timeback's course-centric layer over OneRoster): spec generator and generated spec."""
